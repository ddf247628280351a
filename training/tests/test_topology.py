"""topology.py against the host's layer description, without torch.

layers.json is written by tools/layers-json.ts from host/model-file.ts
(tests/topology.test.ts fails when it is stale), so a layer, width, wiring,
tensor or default-config change on one side that the other lacks fails here.
This module imports neither torch nor numpy: it runs wherever Python does.
"""
import json
import os
import subprocess
import sys
import unittest

from training.percepnet import topology

LAYERS_JSON = os.path.join(os.path.dirname(topology.__file__), "layers.json")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(topology.__file__))))


def load():
    with open(LAYERS_JSON) as f:
        return json.load(f)


class TopologyTest(unittest.TestCase):
    def test_default_config_is_the_hosts(self):
        self.assertEqual(topology.DEFAULT_CONFIG, load()["defaultConfig"])
        self.assertEqual(topology.make_config(), load()["defaultConfig"])

    def test_named_configs(self):
        doc = load()
        names = [c["name"] for c in doc["configs"]]
        # Each case must be there: a generator that silently dropped one would weaken the test.
        self.assertEqual(names, ["default", "small", "mixed", "one-gru-no-vad"])
        for case in doc["configs"]:
            with self.subTest(config=case["name"]):
                cfg = case["config"]
                # The trainer accepts the config as given (no unknown or missing keys).
                self.assertEqual(topology.make_config(cfg), cfg)
                self.assertEqual(topology.layer_specs(cfg), case["layers"])
                self.assertEqual(topology.tensor_specs(cfg), case["tensors"])

    def test_width_knob_gives_the_small_model(self):
        small = next(c for c in load()["configs"] if c["name"] == "small")
        self.assertEqual(topology.make_config(width=192), small["config"])

    def test_engine_ids_and_wiring(self):
        # Holds for any config, not just the committed ones.
        for cfg in (topology.make_config({"gruLayers": 5, "vad": False}, width=24),
                    topology.make_config({"gruLayers": 1, "conv1": {"k": 1, "out": 8}}, width=16)):
            specs = topology.layer_specs(cfg)
            self.assertEqual(len(specs), cfg["gruLayers"] + 8)
            widths = {"features": cfg["nFeatures"]}
            for s in specs:
                self.assertEqual(s["in"], s["k"] * sum(widths[n] for n in s["inputs"]), s["name"])
                widths[s["name"]] = s["out"]
            ids = [t["id"] for t in topology.tensor_specs(cfg)]
            self.assertEqual(ids, sorted(set(ids)))

    def test_imports_neither_torch_nor_numpy(self):
        # Run where torch is installed too: blocking the imports proves the test above needs neither.
        code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
                "import unittest\n"
                "from training.tests import test_topology as t\n"
                "s = unittest.defaultTestLoader.loadTestsFromTestCase(t.TopologyTest)\n"
                "s = unittest.TestSuite(x for x in s if 'imports_neither' not in x.id())\n"
                "r = unittest.TextTestRunner(stream=sys.stdout, verbosity=0).run(s)\n"
                "sys.exit(0 if r.wasSuccessful() and r.testsRun == 4 else 1)\n")
        p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
