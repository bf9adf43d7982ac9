"""Helpers shared by spotauth's Python tests (t/integration) and benchmarks
(bench/), importable as `support.<module>` with t/ on the import path (the
repository's pytest.ini says `pythonpath = t`; a script run from t/ has it as
its own directory). Test modules import from here, never from each other."""
