"""Drawing: from the canvas's picture to an answer. The picture checked and decoded, ink found and centred
like MNIST, the model's probabilities, the "not a digit" detector, and the views of why (saliency, filters)."""
