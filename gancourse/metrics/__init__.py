"""Sample-quality metrics: mode coverage for 2-D mixtures, classifier-based numbers for images, k-NN precision,
recall, density and coverage on feature vectors (``metrics.manifold``)."""
from __future__ import annotations

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
    "predict_proba", "extract_features", "class_histogram", "class_coverage", "kl_from_uniform", "mean_confidence",
    "feature_statistics", "frechet_distance", "frechet_distance_from_features", "ImageQuality", "evaluate_images",
    "image_quality_callback", "CONFIDENT",
    "ManifoldMetrics", "manifold_metrics", "precision_recall", "density_coverage", "knn_radii",
]
