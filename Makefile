# The README's two commands are `make run` and `make test`; the rest are conveniences.
.PHONY: setup run demo-call test bench lint mutate clean

setup:
	scripts/setup.sh

run:
	scripts/run.sh

# With `make run` up (another terminal): a recorded caller dials the demo business.
demo-call:
	.venv/bin/python scripts/localstack.py demo-call

test:
	scripts/test.sh

bench:
	scripts/setup.sh
	.venv/bin/python -m bench

# Mutation testing (mutmut, configured in setup.cfg [mutmut]) of the security and admission
# modules; on demand, not in CI. Needs the test Redis/PostgreSQL like `make test`
# (TEST_REDIS_URL, TEST_PG_ADMIN_URL). Results: `.venv/bin/mutmut results`, `mutmut show <name>`.
mutate:
	scripts/setup.sh
	.venv/bin/python -m pip install -q -e '.[mutate]'
	.venv/bin/mutmut run; .venv/bin/mutmut results

lint:
	.venv/bin/python -m ruff check contracts callengine api jobs tests bench scripts
	.venv/bin/python -m mypy contracts callengine api jobs

clean:
	rm -rf .venv var build *.egg-info
