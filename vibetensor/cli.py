"""Console entry point `vibetensor`; the commands live in vibetensor.experiments.cli."""
import sys


def main() -> int:
    from vibetensor.experiments.cli import main as experiments_main
    return experiments_main()


if __name__ == "__main__":
    sys.exit(main())
