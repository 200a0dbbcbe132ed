"""The ``trunkline demo`` traffic: simulated customers and agents on the real router."""

from __future__ import annotations

from trunkline.demo.simulator import Behaviour, Simulator, SimulatorSettings

__all__ = ["Behaviour", "Simulator", "SimulatorSettings"]
