# The package's version is the library's (CONVKIT_VERSION_STRING in include/convkit.h).
__version__ = "0.1.0"
