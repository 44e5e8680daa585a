package config

import "reflect"

// Group names the part of a run a key belongs to, so `nthost run -h` can
// list the keys in sections a reader can scan.
type Group string

// The groups, in the order help lists them.
const (
	GroupTask     Group = "task"
	GroupPPO      Group = "PPO"
	GroupTopology Group = "topology"
	GroupPlugins  Group = "plugins"
	GroupOutput   Group = "output"
	GroupRuntime  Group = "runtime"
)

// Groups lists every group in help order.
var Groups = []Group{GroupTask, GroupPPO, GroupTopology, GroupPlugins, GroupOutput, GroupRuntime}

// KeyDoc is one key's place in the help and its one-line meaning.
type KeyDoc struct {
	Group   Group
	Meaning string
}

// docs holds every key's help; TestEveryKeyHasADoc keeps it complete.
var docs = map[string]KeyDoc{
	"env_id":            {GroupTask, "task id the environment plugin runs, e.g. Hopper-v4"},
	"seed":              {GroupTask, "seed of the environment, the network initialisation and the sampling"},
	"total_timesteps":   {GroupTask, "environment steps to train for"},
	"data":              {GroupTask, "data plugin of a supervised run (e.g. naitzat; empty: an RL run)"},
	"data_id":           {GroupTask, "data set the data plugin generates, e.g. D-I"},
	"train_samples":     {GroupTask, "training points of a supervised run (0: the data set's own size)"},
	"max_holdout_error": {GroupTask, "supervised runs: largest error on the homology points (never trained on) a network may have for its topology to be computed"},

	"hidden_size":     {GroupPPO, "hidden layer widths of actor and critic, e.g. 64,64"},
	"learning_rate":   {GroupPPO, "Adam step size"},
	"anneal_lr":       {GroupPPO, "decay the learning rate linearly to 0 over the run"},
	"num_envs":        {GroupPPO, "environments stepped in parallel"},
	"num_steps":       {GroupPPO, "steps per environment in each rollout"},
	"gamma":           {GroupPPO, "discount factor"},
	"gae_lambda":      {GroupPPO, "lambda of generalised advantage estimation"},
	"num_minibatches": {GroupPPO, "minibatches each rollout is split into"},
	"update_epochs":   {GroupPPO, "passes over each rollout"},
	"norm_adv":        {GroupPPO, "normalise advantages within each minibatch"},
	"clip_coef":       {GroupPPO, "PPO ratio clipping range"},
	"clip_vloss":      {GroupPPO, "clip the value loss as the policy loss is clipped"},
	"ent_coef":        {GroupPPO, "weight of the entropy bonus"},
	"vf_coef":         {GroupPPO, "weight of the value loss"},
	"max_grad_norm":   {GroupPPO, "gradient norm clipping bound"},
	"target_kl":       {GroupPPO, "stop an update's epochs early above this approximate KL (0: never)"},

	"topology_analysis_interval": {GroupTopology, "updates between topology snapshots"},
	"k":                          {GroupTopology, "neighbours per point of the geodesic distance graph, not counting the point"},
	"tda_samples":                {GroupTopology, "states sampled for each snapshot's point clouds"},
	"maxdim":                     {GroupTopology, "highest homology dimension computed (capped at the cloud's dimension - 1)"},
	"betti_scale":                {GroupTopology, "filtration scale at which snapshots count Betti numbers"},
	"normalized_input":           {GroupTopology, "take the input cloud as the networks see it (normalised), not raw states"},
	"snapshot_jobs":              {GroupTopology, "snapshots computed at once beside training"},

	"env":         {GroupPlugins, "environment plugin (nt-env-NAME)"},
	"algo":        {GroupPlugins, "algorithm plugin (nt-algo-NAME)"},
	"dist":        {GroupPlugins, "distance plugin for the snapshots (nt-dist-NAME)"},
	"ph":          {GroupPlugins, "persistent homology plugin (nt-ph-NAME)"},
	"env_params":  {GroupPlugins, "parameters of the environment plugin, NAME=VALUE"},
	"algo_params": {GroupPlugins, "parameters of the algorithm plugin, NAME=VALUE"},
	"dist_params": {GroupPlugins, "parameters of the distance plugin, NAME=VALUE"},
	"ph_params":   {GroupPlugins, "parameters of the homology plugin, NAME=VALUE"},
	"data_params": {GroupPlugins, "parameters of the data plugin, NAME=VALUE"},

	"run_dir":                  {GroupOutput, "run directory (default runs/ENV-ID__ALGO__SEED__TIME)"},
	"save_checkpoint_interval": {GroupOutput, "updates between checkpoints"},
	"capture_video":            {GroupOutput, "record a video of the final policy"},
	"save_clouds":              {GroupOutput, "keep each snapshot's point clouds as .npz (inputs for nthost bench ph --from-run)"},
	"track":                    {GroupOutput, "print how to upload the run to W&B afterwards (wandb sync --sync-tensorboard RUN_DIR/tb)"},
	"wandb_project_name":       {GroupOutput, "W&B project named in the upload command (track)"},
	"wandb_entity":             {GroupOutput, "W&B entity named in the upload command (track)"},
}

// Doc returns key's group and meaning; ok is false for an unknown key.
func Doc(key string) (KeyDoc, bool) {
	d, ok := docs[key]
	return d, ok
}

// Kind tells what a key holds: "bool", "int", "float", "text" or
// "params" (a plugin's NAME=VALUE pairs); "" for an unknown key.
func Kind(key string) string {
	if a, ok := aliases[key]; ok {
		key = a
	}
	var c Config
	f, ok := c.field(key)
	if !ok {
		return ""
	}
	switch f.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.Map:
		return "params"
	}
	return "text"
}
