"""The benchmark harness: `python -m bench.run --full|--smoke` (see docs/performance.md)."""
