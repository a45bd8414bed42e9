"""The hyperparameter checks the optimizers share, with torch's messages."""


def check_nonnegative(**values):
    """ValueError("Invalid <name> value: v") for the first negative one (lr: "Invalid learning rate: v")."""
    for name, v in values.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid learning rate: {v}" if name == "lr" else f"Invalid {name} value: {v}")


def check_adam_like(optimizer_name, lr, betas, eps, weight_decay):
    """torch's checks of Adamax, NAdam and RAdam, in its order: lr, eps, the two betas in [0, 1), weight_decay.
    A tensor lr is refused: these steps pass lr to their ops as a number (Adam and AdamW take a tensor lr with
    capturable=True)."""
    if hasattr(lr, "numel"):
        raise ValueError(f"{optimizer_name}: lr as a Tensor is not supported by vibetensor; pass a number "
                         "(Adam and AdamW take a tensor lr with capturable=True)")
    check_nonnegative(lr=lr, epsilon=eps)
    if len(betas) != 2:
        raise ValueError(f"{optimizer_name}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    check_nonnegative(weight_decay=weight_decay)


def check_host_step(optimizer_name, capturable, differentiable):
    """Refuses the flags a per-parameter step on the host cannot honour, instead of ignoring them."""
    if capturable:
        raise NotImplementedError(f"{optimizer_name}(capturable=True) is not supported by vibetensor: its step reads "
                                  "the step count on the host (Adam and AdamW take capturable=True)")
    if differentiable:
        raise NotImplementedError(f"{optimizer_name}(differentiable=True) is not supported by vibetensor: optimizer "
                                  "steps run without recording gradients")
