"""Sample-quality metrics: mode coverage for 2-D mixtures, classifier-based numbers for images, k-NN precision,
recall, density and coverage on feature vectors (``metrics.manifold``), and lesson 5's per-class measures of
conditional generators (``metrics.conditional``)."""
from __future__ import annotations

from .conditional import (
    MIN_PER_CLASS,
    PerClass,
    intra_class_diversity,
    intra_class_frechet,
    label_accuracy,
    per_class_wasserstein_1d,
    wasserstein_1d,
)
from .images import (
    CONFIDENT,
    DigitClassifier,
    ImageQuality,
    class_coverage,
    class_histogram,
    classifier_accuracy,
    classifier_path,
    evaluate_images,
    extract_features,
    feature_statistics,
    features_and_probabilities,
    frechet_distance,
    frechet_distance_from_features,
    image_quality_callback,
    kl_from_uniform,
    load_classifier,
    mean_confidence,
    predict_proba,
    train_classifier,
)
from .manifold import ManifoldMetrics, density_coverage, knn_radii, manifold_metrics, precision_recall
from .mixtures import ModeCoverage, mode_coverage, nearest_mode_distance

__all__ = [
    "ModeCoverage", "mode_coverage", "nearest_mode_distance",
    "DigitClassifier", "train_classifier", "load_classifier", "classifier_path", "classifier_accuracy",
    "predict_proba", "extract_features", "features_and_probabilities",
    "class_histogram", "class_coverage", "kl_from_uniform", "mean_confidence",
    "feature_statistics", "frechet_distance", "frechet_distance_from_features", "ImageQuality", "evaluate_images",
    "image_quality_callback", "CONFIDENT",
    "ManifoldMetrics", "manifold_metrics", "precision_recall", "density_coverage", "knn_radii",
    "PerClass", "label_accuracy", "intra_class_frechet", "intra_class_diversity", "wasserstein_1d",
    "per_class_wasserstein_1d", "MIN_PER_CLASS",
]
