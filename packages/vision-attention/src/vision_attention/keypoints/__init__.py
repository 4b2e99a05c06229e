"""KeypointNet (Suwajanakorn et al. 2018): latent 3-D keypoints learned for relative pose, without keypoint labels.

Modules: `config` (torch-free), `geometry` (camera projection / unprojection, orthogonal Procrustes, the
angular distance between rotations), `render` (box-built objects of three categories ray-cast under random
views, with silhouette and known camera), `models` (`KeypointNet`: N spatial-softmax heads with depth),
`loss` (multi-view consistency, relative pose, separation, silhouette; the supervised-keypoint loss),
`study` (train KeypointNet and the supervised baseline, pose error on held-out objects). Nothing is
imported here, so ``import vision_attention.keypoints`` stays cheap.
"""
