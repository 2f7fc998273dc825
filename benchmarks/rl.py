"""Grid-world environment steps per second: the vectorised episode generator vs gymnasium.

Workload: the classic 5x5 world, the uniform random policy. Implementations:

* ``torch-vectorised`` -- course_lib.rl.sample_episodes: N episodes advance one step per
  tensor operation; on the CPU, and on CUDA when present;
* ``gymnasium-loop``   -- GridWorldEnv (a gymnasium.Env) stepped in a Python loop, one
  agent at a time, actions from env.action_space.sample().

Prints one JSON line per measurement and a summary line with the speed-ups.
Usage: python benchmarks/rl.py [--episodes 4096] [--length 200] [--gym-steps 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from course_lib.rl import GridWorld, sample_episodes
from course_lib.rl.env import GridWorldEnv


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def gym_loop(steps: int) -> None:
    env = GridWorldEnv(GridWorld(), max_episode_steps=200)
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4096)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--gym-steps", type=int, default=100_000)
    args = parser.parse_args()
    cpu = platform.processor() or platform.machine()
    common = {"world": "classic 5x5", "policy": "uniform", "torch_threads": torch.get_num_threads()}

    gym_loop(1000)  # warm-up
    start = time.perf_counter()
    gym_loop(args.gym_steps)
    gym_rate = args.gym_steps / (time.perf_counter() - start)
    emit(bench="env_steps", impl="gymnasium-loop", device="cpu", device_name=cpu,
         steps=args.gym_steps, steps_per_s=gym_rate, **common)  # fmt: skip

    rates = {}
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        mdp = GridWorld().model(device=dev)
        policy = torch.full((25, 5), 0.2, dtype=torch.float64, device=dev)
        for n in sorted(
            {256, args.episodes, 4 * args.episodes if dev == "cuda" else args.episodes}
        ):
            gen = torch.Generator(device=dev).manual_seed(0)

            def run(n=n, mdp=mdp, policy=policy, gen=gen, dev=dev):
                sample_episodes(mdp, policy, n, args.length, generator=gen)
                if dev == "cuda":
                    torch.cuda.synchronize()

            run()  # warm-up
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - start)
            rate = n * args.length / best
            rates[(dev, n)] = rate
            name = torch.cuda.get_device_name() if dev == "cuda" else cpu
            emit(
                bench="env_steps",
                impl="torch-vectorised",
                device=dev,
                device_name=name,
                episodes=n,
                length=args.length,
                seconds=best,
                steps_per_s=rate,
                **common,
            )
    emit(
        bench="env_steps_summary",
        gymnasium_steps_per_s=gym_rate,
        best_torch_cpu_vs_gymnasium=max(r for (d, _), r in rates.items() if d == "cpu") / gym_rate,
        best_torch_cuda_vs_gymnasium=(
            max(r for (d, _), r in rates.items() if d == "cuda") / gym_rate
            if "cuda" in devices
            else None
        ),
    )


if __name__ == "__main__":
    main()
