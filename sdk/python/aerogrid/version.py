"""The SDK version and the runtime protocol it speaks."""

__version__ = "0.1.0"
PROTOCOL = "aerogrid.runtime.v1"
