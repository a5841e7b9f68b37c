"""Bringing data in: the seeded synthetic package, REFI-QDA projects and new networks."""
