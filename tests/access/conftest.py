# The factory cluster (a buyer and three factories with capabilities) is also tenant A's world in the matrix.
from tests.factory.conftest import cluster  # noqa: F401
