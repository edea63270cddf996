# The README's two commands are `make run` and `make test`; the rest are conveniences.
.PHONY: setup run test bench lint clean

setup:
	scripts/setup.sh

run:
	scripts/run.sh

test:
	scripts/test.sh

bench:
	scripts/setup.sh
	.venv/bin/python -m bench

lint:
	.venv/bin/python -m ruff check contracts callengine api jobs tests bench scripts
	.venv/bin/python -m mypy contracts callengine api jobs

clean:
	rm -rf .venv var build *.egg-info
