"""Demo and synthetic data, kept apart from the rules: `load.load_demo()` runs every `demo_<stem>`
module's `load(org)`; `synth.generate_district()` runs every `synth_<stem>` module's `extend(district)`."""
