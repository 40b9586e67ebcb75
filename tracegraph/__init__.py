"""tracegraph: Codex rollout-trace bundles as a typed causal graph."""

from tracegraph.errors import BundleError, StateFileError, TraceError, TracegraphError

__version__ = "0.1.0"

__all__ = ["BundleError", "StateFileError", "TraceError", "TracegraphError", "__version__"]
