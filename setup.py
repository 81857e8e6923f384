"""Builds the optional fast embedding engine (see src/stiqa/engine/README.md); all else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "stiqa._e5fast",
            sources=["src/stiqa/engine/e5.c"],
            include_dirs=["src/stiqa/engine"],
            # Built where it runs (pip installs from source), so it may use this CPU's instructions.
            extra_compile_args=["-O3", "-march=native", "-ffast-math", "-fopenmp"],
            extra_link_args=["-fopenmp", "-lm"],
            optional=True,
        )
    ]
)
