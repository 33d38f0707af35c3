# The two commands of dangan: `make run` and `make test`.
.PHONY: run test stop bench bench-ingest lint fmt setup clean

run:            ## build, start the archive on embedded defaults, load and show demo dossiers
	deploy/scripts/run.sh

test:           ## the whole suite (starts PostgreSQL and what else it needs)
	deploy/scripts/test.sh

stop:           ## stop a server started with `make run DETACH=1`
	deploy/scripts/stop.sh

bench:          ## load 1M dossiers into PostgreSQL and SQLite and measure gRPC latency (see BENCHMARKS.md)
	deploy/scripts/bench.sh $(ARGS)

bench-ingest:   ## scan worker throughput (pipeline, tesseract CLI, engine ceiling) and accuracy (see BENCHMARKS.md)
	deploy/scripts/setup.sh test
	OMP_THREAD_LIMIT=1 cargo bench -p dangan-ingest --bench ingest -- $(or $(ARGS),--docs 24)

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

setup:
	deploy/scripts/setup.sh test

clean:
	cargo clean
	rm -rf .dangan .venv
