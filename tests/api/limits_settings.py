"""Settings of the uvicorn server the request-limit tests start: small limits, own temp dir."""

import os

from tests.api.server_settings import *  # noqa: F403

SIGHTLINE_MAX_REQUEST_KB = 64
SIGHTLINE_MAX_UPLOAD_MB = 2
# Every uploaded file goes to disk, into the test's own directory, where leftovers show.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
FILE_UPLOAD_TEMP_DIR = os.environ["TMPDIR"]
