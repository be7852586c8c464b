"""Codes of the mistakes met outside a `.net` program: data, searches, model files, word vectors,
training that diverges and estimator parameters. Each error class carries its code (`DataError.code`);
the command line shows it as `netdsl: error[D101]: ...`."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "D101", "data", "The data cannot be used",
        "A data set, data file, column or model file given on the command line (or a model file loaded in "
        "Python: `ModelFileError`, `NoModelFile`) cannot be read or used: "
        "an unknown data set, a missing file or column, a format netdsl does not read, data that does "
        "not fit the model (another number of features), a file that cannot be written. The message "
        "says which and how to fix it.",
        "Follow the message: fix the name (it suggests a close one) or the path, or convert the file.",
        "$ netdsl fit examples/digits_mlp.net --data irsi\nnetdsl: error[D101]: unknown data set `irsi`: "
        "did you mean `iris`? ...",
        stage="run", example_language="console",
    ),
    Code(
        "S101", "search", "The search cannot run",
        "A `netdsl search` cannot run as asked: a grid that names no parameter of the file, values of "
        "the wrong kind, a results file another search is writing.",
        "Follow the message; `param NAME = DEFAULT in [...]` declares what a search tries.",
        "$ netdsl search examples/digits_mlp.net --data digits --grid units=8,16\nnetdsl: error[S101]: unknown grid "
        "key `units`. The net `digits_mlp` has the params: none; ...",
        stage="run", example_language="console",
    ),
    Code(
        "M101", "unsafe-model-file", "The model file is refused",
        "A model file would run code that is not netdsl's, numpy's, scikit-learn's or Keras's when loaded "
        "(a pickle can run any Python code), so it is refused.",
        "Load only model files written by `netdsl fit --save` or `netdsl.estimators.save` from a source "
        "you trust.",
        ">>> netdsl.estimators.load(\"old_model.pkl\")\nUnsafeModelFile: `old_model.pkl` is a pickle (joblib) file, "
        "not a netdsl model file: loading a pickle runs any code it holds. ...",
        stage="run", example_language="python",
    ),
    Code(
        "M102", "keras-import", "The Keras model cannot be written as a `.net` program",
        "`netdsl import` reads a saved Keras model (its config.json, no code run) and writes it as a `.net` "
        "program; this model has a part netdsl's language cannot say: a layer class netdsl has no kind for "
        "(a `Lambda`, a custom class), an argument netdsl's kind does not have, a shared layer, or fixed "
        "weights (`trainable=false`) that are not the first layers of a chain. The message names the layer.",
        "Rebuild the model from netdsl's layer kinds (the message names the closest one), or write the "
        "`.net` program by hand with `pretrained(...)` for the part netdsl cannot say.",
        "$ netdsl import custom.keras\nnetdsl: error[M102]: the layer `lambda` (`Lambda`) has no netdsl layer "
        "kind; a `Lambda` layer is Python code, ...",
        stage="run", example_language="console",
    ),
    Code(
        "M103", "unexportable-model", "The model cannot be exported to ONNX",
        "`netdsl export` (or `est.export(path)`) writes a fitted model as one ONNX file, but a part of this one "
        "cannot be in it: a layer whose TensorFlow ops have no ONNX equivalent, a text input read by two "
        "`text_vectorization` layers (the step before the graph turns one input's texts one way), a "
        "step around the net that netdsl does not export. The message names the layer or step and why.",
        "Change the net as the message says (give each `text_vectorization` its own input), or keep the "
        "model file and predict with netdsl.",
        "$ netdsl export twice.model --format onnx\nnetdsl: error[M103]: cannot export layer `text_vectorization_1` "
        "(text_vectorization): the input `review` is read by two text_vectorization layers ...",
        stage="run", example_language="console",
    ),
    Code(
        "V101", "vectors", "The word-vector file is damaged or not word vectors",
        "A word-vector file cannot be read while fitting: a line with another number of numbers, a "
        "damaged gzip stream, a binary word2vec file, a header that does not match the file.",
        "Use a text word-vector file (GloVe, word2vec text, fastText `.vec`), downloaded again if it is "
        "damaged.",
        ">>> load_vectors(\"glove.bin\")\nVectorsError: glove.bin:2: looks like the binary word2vec format",
        stage="run", example_language="python",
    ),
    Code(
        "T101", "training-diverged", "Training diverged",
        "The loss became NaN or infinite while fitting: the weights overflowed, most often because the "
        "learning rate is too large or the inputs are not scaled.",
        "Lower the learning rate, scale the inputs (`rescaling`, `normalization`), or clip gradients "
        "(`clipnorm=1.0`).",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    optimizer = sgd(learning_rate=1000)\n}\n"
        "# fitted on inputs in the hundreds, targets in the hundred thousands\n",
        stage="fit",
    ),
    Code(
        "E101", "unusable-input", "The estimator cannot take this data",
        "X, y or the sample weights given to an estimator (or an augmentation step) in Python cannot be "
        "used: another number of features than at the first fit, NaN or missing values, strings or dates "
        "in a numeric column, labels not seen at the first fit, a single class, a generator instead of "
        "an array. The message names the column or value.",
        "Follow the message: encode strings (`OneHotEncoder`), impute missing values, pass arrays, give "
        "the features the model was fitted on.",
        ">>> NetClassifier(\"net.net\").fit([[1.0, None]], [0])\nInputError: Input X contains NaN.",
        stage="run", example_language="python",
    ),
    Code(
        "P101", "invalid-parameter", "Invalid estimator parameter",
        "A parameter given to an estimator or a pipeline step in Python has a value of the wrong type or "
        "out of its range.",
        "Give a value the message states.",
        ">>> ImageAugmenter(rotation=200).fit_resample(X, y)\nParameterError: The 'rotation' parameter "
        "of ImageAugmenter must be a float in the range [0, 180]. Got 200 instead.",
        stage="run", example_language="python",
    ),
    Code(
        "C101", "command-line", "Options that do not fit together",
        "The options of a `netdsl` command are not what it takes (an unknown option, a missing "
        "argument, a value of the wrong kind), or, each valid alone, do not fit together or with the "
        "files given (an option for another kind of picture, a sample number beyond the data, an "
        "unknown diagnostic code for `netdsl explain`).",
        "Follow the message; `netdsl COMMAND --help` lists each command's options.",
        "$ netdsl plot filters model.keras --data iris\nnetdsl: error[C101]: --data applies to maps, saliency "
        "and confusion, not `filters`",
        stage="run", example_language="console",
    ),
]
