"""Results of closed visits: review, the 20-working-day clock, publication (一公开)."""
