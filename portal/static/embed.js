// Inside another site's frame: tell the page around the form how tall the form is,
// so that the snippet's listener can size the frame to fit (an error summary or the
// confirmation changes the height). Only a number is sent, so any page may read it.
(() => {
  if (window.parent === window) {
    return;
  }
  let sent = 0;
  const post = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== sent) {
      sent = height;
      window.parent.postMessage({ portalFrameHeight: height }, "*");
    }
  };
  new ResizeObserver(post).observe(document.documentElement);
  window.addEventListener("load", post);
  window.addEventListener("resize", post);
  post();
})();
