"""A small learner for the sdk's tests of ntplugin.Algorithm: a tanh
layer and a tanh output, whose output weights take a random step at each
update (the kit checks the protocol, not learning)."""
import json

import numpy as np

import ntplugin


class Linear(ntplugin.Algorithm):
    name = "pylin"
    version = "0.1.0"
    description = "a random tanh network (sdk test)"
    capabilities = {"action_space": "box"}
    params = [ntplugin.Param("step", "float", "0.01", "size of an update's random step", min=0)]

    def init(self, cfg, ctx):
        self.obs_dim, self.act_dim = cfg.env.obs_dim, cfg.env.act_dim
        # Actions must lie inside the task's bounds, whatever they are.
        self.low, self.high = np.array(cfg.env.act_low, dtype=float), np.array(cfg.env.act_high, dtype=float)
        self.rollout = int(cfg.hyper.get("num_steps", "16"))
        self.step_size = float(cfg.hyper["step"])  # declared: default filled in
        hidden = int(cfg.hyper.get("hidden_size", "8"))
        self.rng = np.random.Generator(np.random.PCG64(cfg.seed))
        self.w1 = self.rng.normal(size=(hidden, self.obs_dim))
        self.w2 = self.rng.normal(size=(self.act_dim, hidden))
        self.steps = self.updates = 0
        total = int(cfg.hyper.get("total_timesteps", "128"))
        return ntplugin.AlgoSpec(["actor/1"], self.rollout, max(1, total // (self.rollout * max(1, cfg.env.num_envs))))

    def check(self, obs):
        if obs.shape[1] != self.obs_dim:
            raise ntplugin.BadInput("observations have %d columns, want %d" % (obs.shape[1], self.obs_dim))

    def hidden(self, obs):
        return np.tanh(obs @ self.w1.T)

    def act(self, obs, prev, ctx):
        self.check(obs)
        self.steps += 1
        a = self.policy(obs, False, ctx)
        if self.steps % self.rollout:
            return a
        self.updates += 1
        self.w2 += self.step_size * self.rng.normal(size=self.w2.shape)
        return a, ntplugin.UpdateStats(self.updates, self.steps, {"losses/value_loss": 0.0})

    def policy(self, obs, deterministic, ctx):
        self.check(obs)
        a = np.tanh(self.hidden(obs) @ self.w2.T)
        if not deterministic:
            a = a + 0.1 * self.rng.normal(size=a.shape)
        return np.clip(a, self.low, self.high)

    def activations(self, states, names, ctx):
        self.check(states)
        for n in names:
            if n != "actor/1":
                raise ntplugin.BadInput("no layer %r (layers: actor/1)" % n)
        return [("actor/1", self.hidden(states))]

    def save(self, ctx):
        return json.dumps({"w1": self.w1.tolist(), "w2": self.w2.tolist(), "steps": self.steps,
                           "updates": self.updates, "rng": self.rng.bit_generator.state}).encode()

    def load(self, data, ctx):
        try:
            s = json.loads(data)
            w1, w2 = np.array(s["w1"], dtype=float), np.array(s["w2"], dtype=float)
        except (ValueError, KeyError, TypeError) as e:
            raise ntplugin.BadInput("not a checkpoint of this learner: %s" % e)
        if w1.shape != self.w1.shape or w2.shape != self.w2.shape:
            raise ntplugin.BadInput("checkpoint's weights are %s and %s, want %s and %s"
                                    % (w1.shape, w2.shape, self.w1.shape, self.w2.shape))
        self.w1, self.w2, self.steps, self.updates = w1, w2, s["steps"], s["updates"]
        self.rng.bit_generator.state = s["rng"]


if __name__ == "__main__":
    ntplugin.serve(Linear())
