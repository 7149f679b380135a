"""Developer tooling behind the Makefile: code generation, test runs, throwaway databases."""
