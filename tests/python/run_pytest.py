"""Runs one pytest file for CTest; exits 77 (CTest: skipped) with the reason when pytest is
missing, and fails when the file collects no test."""
import sys

try:
    import pytest
except ImportError:
    print(f"SKIPPED: {sys.executable} has no pytest, so the Python tests did not run "
          "(apt-get install python3-pytest)")
    sys.exit(77)

status = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
sys.exit(1 if status == pytest.ExitCode.NO_TESTS_COLLECTED else int(status))
