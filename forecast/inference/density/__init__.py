"""The hand-written log density the sampler uses: its layout (``layout``) and its numba code (``kernel``)."""
