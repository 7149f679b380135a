"""Developer tooling behind the Makefile: code generation, test orchestration, throwaway databases."""
