"""The results path: detections from the ingest workers' Redis Stream into Django."""
