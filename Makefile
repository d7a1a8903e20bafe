# The two commands of the README. Everything they need is installed by localstack/setup.sh.
.PHONY: run test bench stack-start stack-stop

run:  ## set up, start the local stack and the functions, print the URL and tokens; Ctrl-C stops all
	bash localstack/run.sh

test: ## set up, lint, start the local stack, run every test against it
	bash localstack/test.sh

bench: ## build release, start the local stack, measure the figures, write docs/BENCHMARKS.md
	bash localstack/bench.sh

stack-start:
	bash localstack/stack.sh start

stack-stop:
	bash localstack/stack.sh stop
