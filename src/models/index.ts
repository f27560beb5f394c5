/** The model zoo. */
export { lenet5, mnistCnn, type ZooOptions } from './lenet.js';
export { createModel, modelNames, registerModel, type ZooEntry, zooEntry } from './registry.js';
