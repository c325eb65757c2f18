"""Write the seeded panel that the synthetic-control peer check uses (run with pilot-eval's venv).

    .venv/bin/python tests/reference/make_synth_panel.py

One treated area of 17, 36 months before and 12 after the start, a true rate ratio of 0.8,
negative-binomial counts (pilot_eval.simulate, seed 7). The file is committed; this script
says how it was made.
"""

from __future__ import annotations

from pathlib import Path

from pilot_eval.simulate import simulate_panels

HERE = Path(__file__).resolve().parent


def main() -> Path:
    sim = simulate_panels(n_areas=17, n_treated=1, effect=0.8, n_reps=1, seed=7)
    panel = sim.panel(0)
    out = HERE / "synth_panel.csv"
    panel.to_csv(out, index=False)
    return out


if __name__ == "__main__":
    print(main())
