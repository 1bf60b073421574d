"""Speed and memory benchmarks of Viewer Admin (run with `script/benchmark`)."""
