// Registers r1-ts's kernels and gradients with TensorFlow.js (side effect of importing the package).
import './backend/missing_kernels';
