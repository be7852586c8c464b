"""`python -m benchmarks [--quick] [--markdown PATH] [--only NAMES]`: every benchmark (run_all.py)."""

from benchmarks.run_all import main

if __name__ == "__main__":
    main()
