"""The hyperparameter checks the optimizers share, with torch's messages."""


def check_nonnegative(**values):
    """ValueError("Invalid <name> value: v") for the first negative one (lr: "Invalid learning rate: v")."""
    for name, v in values.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid learning rate: {v}" if name == "lr" else f"Invalid {name} value: {v}")
