import pytest

from hookline.api.auth import ApiKeyVerifier
from hookline.errors import UnauthorizedError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_valid_key_passes_and_the_secret_is_read_once() -> None:
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return "hk_right"

    verifier = ApiKeyVerifier(load)
    for _ in range(3):
        verifier.verify({"Authorization": "Bearer hk_right"})
    assert len(loads) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "hk_right"},
        {"authorization": "Basic aGs6cmlnaHQ="},
        {"authorization": "Bearer "},
        {"authorization": "Bearer hk_wrong"},
    ],
)
def test_missing_or_wrong_keys_are_unauthorized(headers: dict[str, str]) -> None:
    with pytest.raises(UnauthorizedError):
        ApiKeyVerifier(lambda: "hk_right").verify(headers)


def test_a_rotated_key_is_picked_up_after_the_refresh_interval() -> None:
    clock = FakeClock()
    current = {"key": "hk_old"}
    verifier = ApiKeyVerifier(lambda: current["key"], monotonic=clock)
    verifier.verify({"authorization": "Bearer hk_old"})
    current["key"] = "hk_new"
    with pytest.raises(UnauthorizedError):
        verifier.verify({"authorization": "Bearer hk_new"})  # too soon to re-read the secret
    clock.now = 61
    verifier.verify({"authorization": "Bearer hk_new"})
    with pytest.raises(UnauthorizedError):
        verifier.verify({"authorization": "Bearer hk_old"})
