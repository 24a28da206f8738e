"""Runners: how the frames of one source are spread over processes (serial, chunked)."""
