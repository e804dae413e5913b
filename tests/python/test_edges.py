"""Reliability at the edges (issue 28), the Python side: text the engine cannot take."""
import os

import pytest

import timely

# What os.fsdecode returns for the file name b"bad\xff.toml" (not UTF-8): a lone surrogate.
BAD = os.fsdecode(b"bad\xff")


@pytest.mark.parametrize("call, named", [
    (lambda: timely.simulate(BAD + ".toml"), "scenario"),
    (lambda: timely.simulate(set={"data.dir": BAD}), "data.dir"),
    (lambda: timely.simulate(set=[f"data.dir={BAD}"]), "data.dir"),
    (lambda: timely.simulate(set=f"data.dir={BAD}"), "data.dir"),
    (lambda: timely.simulate({"data.dir": BAD}), "data.dir"),
    (lambda: timely.simulate({"data": {"dir": BAD}}), "data.dir"),
    (lambda: timely.theory(set={"data.dir": BAD}), "data.dir"),
    (lambda: timely.sweep(BAD + ".toml"), "sweep"),
    (lambda: timely.sweep({"sweep": {"network.n": [4, 8]}}, out=BAD), "out"),
    (lambda: timely.sweep({"sweep": {"network.n": [4, 8]}}, name=BAD), "name"),
    (lambda: timely.validate(out=BAD), "out"),
])
def test_text_that_cannot_be_utf8_is_a_value_error_naming_the_key(call, named):
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert message.startswith(f"{named}: "), message
    assert "UTF-8" in message
    assert "\n" not in message
