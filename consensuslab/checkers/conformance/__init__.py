"""Model-based testing: a sans-IO implementation driven in lockstep with the model, compared step by step."""
