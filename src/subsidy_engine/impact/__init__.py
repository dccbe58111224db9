"""Reform impact: a second scenario (edited parameters or another rulebook) against the baseline, exactly."""
