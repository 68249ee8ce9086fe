"""Plans, tasks, draws, visits and joint groups."""
