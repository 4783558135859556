"""Hand-written model cards for the scorer tests."""

FULL_CARD = """---
license: mit
tags:
- text-classification
---

# my-model

## Model description

This model is a BERT encoder fine-tuned to classify the sentiment of product reviews.

## Limitations and bias

The model was trained on English reviews only and performs poorly on sarcasm.

## How to use

```python
from transformers import pipeline
clf = pipeline("text-classification", model="me/my-model")
```

## Training data

We fine-tuned on 50,000 Amazon reviews for 3 epochs with a learning rate of 2e-5.

## Evaluation results

| metric | value |
|---|---|
| accuracy | 0.93 |
"""

SYNONYM_CARD = """# Thing

## Overview

A small convolutional network that detects cats in photographs taken indoors.

## Risks and caveats

It confuses small dogs with cats and should not be used for safety decisions.

## Usage

Load it with the library of your choice and call predict on an image tensor.

## Fine-tuning

Two epochs on the cats-vs-dogs corpus, batch size 64, AdamW optimiser.

## Benchmarks

On the held-out split it reaches 91% top-1.
"""

TRAINER_PLACEHOLDER_CARD = """---
license: apache-2.0
tags:
- generated_from_trainer
---

<!-- This model card has been generated automatically according to the information the Trainer had access to. You
should probably proofread and complete it, then remove this comment. -->

# tiny-model

## Model description

More information needed

## Intended uses & limitations

More information needed

## Training and evaluation data

More information needed
"""

HUB_TEMPLATE_EMPTY = """# Model Card for Model ID

<!-- Provide a quick summary of what the model is/does. -->

## Model Details

### Model Description

<!-- Provide a longer summary of what this model is. -->

This is the model card of a 🤗 transformers model that has been pushed on the Hub. \
This model card has been automatically generated.

- **Developed by:** [More Information Needed]
- **Model type:** [More Information Needed]

## Uses

### Direct Use

[More Information Needed]

## Bias, Risks, and Limitations

[More Information Needed]

### Recommendations

Users (both direct and downstream) should be made aware of the risks, biases and limitations of the model. \
More information needed for further recommendations.

## How to Get Started with the Model

Use the code below to get started with the model.

[More Information Needed]

## Training Details

### Training Data

[More Information Needed]

## Evaluation

[More Information Needed]
"""

HTML_CARD = """<script>alert('x')</script>
<div onclick="evil()"><h1>Not a heading in markdown</h1></div>
<!-- ## Limitations
hidden in a comment -->
<style>body { display:none }</style>
"""

CODE_ONLY_HEADINGS = """# demo

```python
# How to use
# Limitations
# Training
print("headings inside code are not headings")
```
"""
