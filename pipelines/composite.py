"""What the command line puts around a net, and how to find the net again inside it.

`composed` builds the composite that `netdsl fit` and `netdsl search` train (a one-hot encoder of
string columns, a standardiser), and `check_categories` refuses a string column too varied to
encode; `fitted_net` and `before_net` take a fitted one apart (the plots and `predict` need the
net itself); `remember_columns` and `known_columns` keep a table's column names on the model, so
that `predict` finds its features by name. Importing this module is cheap: scikit-learn loads
when a composite is built.
"""

from __future__ import annotations

from .errors import DataError

__all__ = ["before_net", "check_categories", "composed", "fitted_net", "known_columns", "remember_columns"]


def composed(net_estimator, categorical=(), scale: bool = False):
    """`net_estimator` after what the command line puts before it: a one-hot encoder of the
    `categorical` columns (other columns passed through), and with `scale` the features
    standardised (shaped samples flattened first; the net reshapes them to its `input`) and, for a
    regressor, the targets too, mapped back at predict. The estimator itself when neither applies."""
    from sklearn.base import is_regressor
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from netdsl.pipelines.series import flat_samples

    steps = []
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        steps.append(ColumnTransformer([("onehot", encoder, list(categorical))], remainder="passthrough", sparse_threshold=0))
    if scale:
        steps += [FunctionTransformer(flat_samples), StandardScaler()]
    if not steps:
        return net_estimator
    pipeline = make_pipeline(*steps, net_estimator)
    if not scale or not is_regressor(net_estimator):
        return pipeline
    # Targets with more axes per sample (an image, a sequence of vectors) are scaled flat, one
    # column per value, and the net fits them flat (NetRegressor reshapes flat targets to its
    # output); a flat round trip is not y's shape, so the inverse is not checked against y.
    scaler = make_pipeline(FunctionTransformer(flat_samples), StandardScaler())
    return TransformedTargetRegressor(regressor=pipeline, transformer=scaler, check_inverse=False)


def fitted_net(model):
    """The fitted netdsl estimator inside what `fit` trained (itself, or the net of `composed`)."""
    model = getattr(model, "regressor_", model)
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def before_net(model):
    """What a composite applies to X before its net (a fitted transformer), or None."""
    model = getattr(model, "regressor_", model)
    steps = getattr(model, "steps", None)
    return model[:-1] if steps and len(steps) > 1 else None


def remember_columns(model, data) -> None:
    """Record on the fitted `model` the table columns it was trained on (`feature_columns_`,
    `target_column_`, `categorical_columns_`, plain data saved with it), so that `predict` finds
    its features and labels by name."""
    if not data.table or data.windowed:
        return
    model.feature_columns_ = list(data.feature_names)
    model.target_column_ = data.target
    model.categorical_columns_ = list(data.categorical)


def known_columns(model) -> dict | None:
    """The table columns a model was trained on (see `remember_columns`), for `load_data(columns=)`."""
    features = getattr(model, "feature_columns_", None)
    if not features:
        return None
    return {
        "features": [str(c) for c in features],
        "target": getattr(model, "target_column_", None),
        "categorical": [str(c) for c in getattr(model, "categorical_columns_", None) or []],
    }


MAX_CATEGORIES = 1000  # distinct values of a one-hot encoded column, at most


def check_categories(features, text: list[str], source: str) -> None:
    """Refuse a string column with too many distinct values to one-hot encode: more than
    MAX_CATEGORIES, or (past 100 rows) more than half the rows, as an id column has."""
    rows = len(features)
    for column in text:
        distinct = features[column].nunique()
        if distinct > MAX_CATEGORIES or (rows > 100 and 2 * distinct > rows):
            raise DataError(
                f"the text column `{column}` of `{source}` has {distinct:,} distinct values in {rows:,} rows: "
                f"too many to encode as categories (at most {MAX_CATEGORIES:,}, and at most half the rows); "
                "drop it if it is an id, or turn it into numbers first"
            )
