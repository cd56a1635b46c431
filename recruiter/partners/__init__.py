"""Partners after they join: tracking platforms, referral links, activation, performance and reports."""
