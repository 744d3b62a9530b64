import pytest


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_directory(settings, tmp_path):
    """Uploaded files go under VAR_DIR/imports: keep each test's in its own directory."""
    settings.VAR_DIR = tmp_path
