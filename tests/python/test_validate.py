"""timely.validate runs the validation suite as `timely validate --quick` does."""
import timely


def test_quick_validation_passes(tmp_path):
    r = timely.validate(quick=True, out=str(tmp_path / "v"), progress=False)
    checks = r["checks"]
    assert r["passed"] and r["failed"] == 0, r["summary"]
    assert len(checks) >= 60 and set(checks["pass"]) == {True}, checks
    assert (tmp_path / "v" / "report.md").exists()
    assert f"{len(checks)}/{len(checks)} checks passed" in r["summary"]
