"""The demo project: a small Russian taxonomy and generated videos about its topics."""
