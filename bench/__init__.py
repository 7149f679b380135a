"""MedChain benchmarks: each module measures one thing and returns a result for the report."""
