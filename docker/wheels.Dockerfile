# The wheelhouse as the images' builder base: the Python base image plus build/wheels/VARIANT
# (docker/build-wheelhouse.sh), built with that folder as its context by docker/build-images.sh
# and tagged by the wheelhouse's stamp, so it is made again only when the requirements change.
# Only the builder stages start from it: no wheel reaches a runtime image.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}
COPY . /wheels/
