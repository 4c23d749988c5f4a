"""Models: base-model registry (base_model), LoRA training (lora), adapter merging (merge) and
entity extraction (extract). Submodules are imported directly so that importing this package does
not load torch."""
