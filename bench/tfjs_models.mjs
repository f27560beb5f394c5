// The bench workloads' networks in TensorFlow.js (the same as receptive's zoo models), for the
// Node workers (tfjs_worker.mjs) and the in-browser WebGPU benchmark (webgpu_page.ts).
/** LeNet-5, VGG13 for CIFAR-10 and ResNet-18 (224×224) builders on the given `tf` module. */
export function tfjsModels(tf) {
  function lenet() {
    const L = tf.layers;
    return tf.sequential({
      layers: [
        L.conv2d({ filters: 6, kernelSize: 5, activation: 'tanh', inputShape: [28, 28, 1] }),
        L.averagePooling2d({ poolSize: 2, strides: 2 }),
        L.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh' }),
        L.averagePooling2d({ poolSize: 2, strides: 2 }),
        L.flatten(),
        L.dense({ units: 120, activation: 'tanh' }),
        L.dense({ units: 84, activation: 'tanh' }),
        L.dense({ units: 10, activation: 'softmax' }),
      ],
    });
  }

  function vgg13Cifar() {
    const L = tf.layers;
    const layers = [];
    let first = true;
    for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']) {
      if (v === 'M') layers.push(L.maxPooling2d({ poolSize: 2, strides: 2 }));
      else
        layers.push(
          L.conv2d({
            filters: v,
            kernelSize: 3,
            padding: 'same',
            activation: 'relu',
            ...(first ? { inputShape: [32, 32, 3] } : {}),
          }),
        );
      first = false;
    }
    layers.push(
      L.flatten(),
      L.dense({ units: 256, activation: 'relu' }),
      L.dropout({ rate: 0.5 }),
      L.dense({ units: 128, activation: 'relu' }),
      L.dropout({ rate: 0.5 }),
      L.dense({ units: 10, activation: 'softmax' }),
    );
    return tf.sequential({ layers });
  }

  function resnet18() {
    const L = tf.layers;
    const convBN = (x, filters, k, stride, relu = true) => {
      let y = L.zeroPadding2d({ padding: Math.floor(k / 2) }).apply(x);
      y = L.conv2d({ filters, kernelSize: k, strides: stride, useBias: false }).apply(y);
      y = L.batchNormalization({ epsilon: 1e-5 }).apply(y);
      return relu ? L.activation({ activation: 'relu' }).apply(y) : y;
    };
    const input = tf.input({ shape: [224, 224, 3] });
    let x = convBN(input, 64, 7, 2);
    x = L.zeroPadding2d({ padding: 1 }).apply(x);
    x = L.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x);
    [64, 128, 256, 512].forEach((planes, stage) => {
      for (let i = 0; i < 2; i++) {
        const stride = i === 0 && stage > 0 ? 2 : 1;
        let y = convBN(x, planes, 3, stride);
        y = convBN(y, planes, 3, 1, false);
        const sc =
          stride !== 1 || x.shape[3] !== planes
            ? L.batchNormalization({ epsilon: 1e-5 }).apply(
                L.conv2d({ filters: planes, kernelSize: 1, strides: stride, useBias: false }).apply(
                  x,
                ),
              )
            : x;
        x = L.activation({ activation: 'relu' }).apply(L.add().apply([y, sc]));
      }
    });
    x = L.globalAveragePooling2d({}).apply(x);
    return tf.model({
      inputs: input,
      outputs: L.dense({ units: 1000, activation: 'softmax' }).apply(x),
    });
  }
  return { lenet, vgg13Cifar, resnet18 };
}
