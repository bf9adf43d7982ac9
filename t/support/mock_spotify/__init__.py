"""The mock Spotify (accounts service, Web API, control API) that the
integration tests, the demo and the benchmarks run as t/mock_spotify.py; its
endpoints are documented at the top of that file."""
