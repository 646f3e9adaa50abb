var X,y,De,ut,U,Ee,Le,Pe,Ae,pe,_e,ue,dt,Q={},Z=[],pt=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,ee=Array.isArray;function R(t,e){for(var n in e)t[n]=e[n];return t}function fe(t){t&&t.parentNode&&t.parentNode.removeChild(t)}function he(t,e,n){var r,s,o,i={};for(o in e)o=="key"?r=e[o]:o=="ref"?s=e[o]:i[o]=e[o];if(arguments.length>2&&(i.children=arguments.length>3?X.call(arguments,2):n),typeof t=="function"&&t.defaultProps!=null)for(o in t.defaultProps)i[o]===void 0&&(i[o]=t.defaultProps[o]);return G(t,i,r,s,null)}function G(t,e,n,r,s){var o={type:t,props:e,key:n,ref:r,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:s??++De,__i:-1,__u:0};return s==null&&y.vnode!=null&&y.vnode(o),o}function te(t){return t.children}function K(t,e){this.props=t,this.context=e}function I(t,e){if(e==null)return t.__?I(t.__,t.__i+1):null;for(var n;e<t.__k.length;e++)if((n=t.__k[e])!=null&&n.__e!=null)return n.__e;return typeof t.type=="function"?I(t):null}function ft(t){if(t.__P&&t.__d){var e=t.__v,n=e.__e,r=[],s=[],o=R({},e);o.__v=e.__v+1,y.vnode&&y.vnode(o),me(t.__P,o,e,t.__n,t.__P.namespaceURI,32&e.__u?[n]:null,r,n??I(e),!!(32&e.__u),s),o.__v=e.__v,o.__.__k[o.__i]=o,Fe(r,o,s),e.__e=e.__=null,o.__e!=n&&Ue(o)}}function Ue(t){if((t=t.__)!=null&&t.__c!=null)return t.__e=t.__c.base=null,t.__k.some(function(e){if(e!=null&&e.__e!=null)return t.__e=t.__c.base=e.__e}),Ue(t)}function Ce(t){(!t.__d&&(t.__d=!0)&&U.push(t)&&!Y.__r++||Ee!=y.debounceRendering)&&((Ee=y.debounceRendering)||Le)(Y)}function Y(){try{for(var t,e=1;U.length;)U.length>e&&U.sort(Pe),t=U.shift(),e=U.length,ft(t)}finally{U.length=Y.__r=0}}function Oe(t,e,n,r,s,o,i,c,u,l,d){var a,p,f,h,S,m,v,$=r&&r.__k||Z,A=e.length;for(u=ht(n,e,$,u,A),a=0;a<A;a++)(f=n.__k[a])!=null&&(p=f.__i!=-1&&$[f.__i]||Q,f.__i=a,m=me(t,f,p,s,o,i,c,u,l,d),h=f.__e,f.ref&&p.ref!=f.ref&&(p.ref&&ve(p.ref,null,f),d.push(f.ref,f.__c||h,f)),S==null&&h!=null&&(S=h),(v=!!(4&f.__u))||p.__k===f.__k?u=He(f,u,t,v):typeof f.type=="function"&&m!==void 0?u=m:h&&(u=h.nextSibling),f.__u&=-7);return n.__e=S,u}function ht(t,e,n,r,s){var o,i,c,u,l,d=n.length,a=d,p=0;for(t.__k=new Array(s),o=0;o<s;o++)(i=e[o])!=null&&typeof i!="boolean"&&typeof i!="function"?(typeof i=="string"||typeof i=="number"||typeof i=="bigint"||i.constructor==String?i=t.__k[o]=G(null,i,null,null,null):ee(i)?i=t.__k[o]=G(te,{children:i},null,null,null):i.constructor===void 0&&i.__b>0?i=t.__k[o]=G(i.type,i.props,i.key,i.ref?i.ref:null,i.__v):t.__k[o]=i,u=o+p,i.__=t,i.__b=t.__b+1,c=null,(l=i.__i=mt(i,n,u,a))!=-1&&(a--,(c=n[l])&&(c.__u|=2)),c==null||c.__v==null?(l==-1&&(s>d?p--:s<d&&p++),typeof i.type!="function"&&(i.__u|=4)):l!=u&&(l==u-1?p--:l==u+1?p++:(l>u?p--:p++,i.__u|=4))):t.__k[o]=null;if(a)for(o=0;o<d;o++)(c=n[o])!=null&&(2&c.__u)==0&&(c.__e==r&&(r=I(c)),Ie(c,c));return r}function He(t,e,n,r){var s,o;if(typeof t.type=="function"){for(s=t.__k,o=0;s&&o<s.length;o++)s[o]&&(s[o].__=t,e=He(s[o],e,n,r));return e}t.__e!=e&&(r&&(e&&t.type&&!e.parentNode&&(e=I(t)),n.insertBefore(t.__e,e||null)),e=t.__e);do e=e&&e.nextSibling;while(e!=null&&e.nodeType==8);return e}function mt(t,e,n,r){var s,o,i,c=t.key,u=t.type,l=e[n],d=l!=null&&(2&l.__u)==0;if(l===null&&c==null||d&&c==l.key&&u==l.type)return n;if(r>(d?1:0)){for(s=n-1,o=n+1;s>=0||o<e.length;)if((l=e[i=s>=0?s--:o++])!=null&&(2&l.__u)==0&&c==l.key&&u==l.type)return i}return-1}function Ne(t,e,n){e[0]=="-"?t.setProperty(e,n??""):t[e]=n==null?"":typeof n!="number"||pt.test(e)?n:n+"px"}function V(t,e,n,r,s){var o,i;e:if(e=="style")if(typeof n=="string")t.style.cssText=n;else{if(typeof r=="string"&&(t.style.cssText=r=""),r)for(e in r)n&&e in n||Ne(t.style,e,"");if(n)for(e in n)r&&n[e]==r[e]||Ne(t.style,e,n[e])}else if(e[0]=="o"&&e[1]=="n")o=e!=(e=e.replace(Ae,"$1")),i=e.toLowerCase(),e=i in t||e=="onFocusOut"||e=="onFocusIn"?i.slice(2):e.slice(2),t.l||(t.l={}),t.l[e+o]=n,n?r?n.u=r.u:(n.u=pe,t.addEventListener(e,o?ue:_e,o)):t.removeEventListener(e,o?ue:_e,o);else{if(s=="http://www.w3.org/2000/svg")e=e.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(e!="width"&&e!="height"&&e!="href"&&e!="list"&&e!="form"&&e!="tabIndex"&&e!="download"&&e!="rowSpan"&&e!="colSpan"&&e!="role"&&e!="popover"&&e in t)try{t[e]=n??"";break e}catch{}typeof n=="function"||(n==null||n===!1&&e[4]!="-"?t.removeAttribute(e):t.setAttribute(e,e=="popover"&&n==1?"":n))}}function Re(t){return function(e){if(this.l){var n=this.l[e.type+t];if(e.t==null)e.t=pe++;else if(e.t<n.u)return;return n(y.event?y.event(e):e)}}}function me(t,e,n,r,s,o,i,c,u,l){var d,a,p,f,h,S,m,v,$,A,O,M,Te,z,ce,C=e.type;if(e.constructor!==void 0)return null;128&n.__u&&(u=!!(32&n.__u),o=[c=e.__e=n.__e]),(d=y.__b)&&d(e);e:if(typeof C=="function")try{if(v=e.props,$=C.prototype&&C.prototype.render,A=(d=C.contextType)&&r[d.__c],O=d?A?A.props.value:d.__:r,n.__c?m=(a=e.__c=n.__c).__=a.__E:($?e.__c=a=new C(v,O):(e.__c=a=new K(v,O),a.constructor=C,a.render=$t),A&&A.sub(a),a.state||(a.state={}),a.__n=r,p=a.__d=!0,a.__h=[],a._sb=[]),$&&a.__s==null&&(a.__s=a.state),$&&C.getDerivedStateFromProps!=null&&(a.__s==a.state&&(a.__s=R({},a.__s)),R(a.__s,C.getDerivedStateFromProps(v,a.__s))),f=a.props,h=a.state,a.__v=e,p)$&&C.getDerivedStateFromProps==null&&a.componentWillMount!=null&&a.componentWillMount(),$&&a.componentDidMount!=null&&a.__h.push(a.componentDidMount);else{if($&&C.getDerivedStateFromProps==null&&v!==f&&a.componentWillReceiveProps!=null&&a.componentWillReceiveProps(v,O),e.__v==n.__v||!a.__e&&a.shouldComponentUpdate!=null&&a.shouldComponentUpdate(v,a.__s,O)===!1){e.__v!=n.__v&&(a.props=v,a.state=a.__s,a.__d=!1),e.__e=n.__e,e.__k=n.__k,e.__k.some(function(W){W&&(W.__=e)}),Z.push.apply(a.__h,a._sb),a._sb=[],a.__h.length&&i.push(a);break e}a.componentWillUpdate!=null&&a.componentWillUpdate(v,a.__s,O),$&&a.componentDidUpdate!=null&&a.__h.push(function(){a.componentDidUpdate(f,h,S)})}if(a.context=O,a.props=v,a.__P=t,a.__e=!1,M=y.__r,Te=0,$)a.state=a.__s,a.__d=!1,M&&M(e),d=a.render(a.props,a.state,a.context),Z.push.apply(a.__h,a._sb),a._sb=[];else do a.__d=!1,M&&M(e),d=a.render(a.props,a.state,a.context),a.state=a.__s;while(a.__d&&++Te<25);a.state=a.__s,a.getChildContext!=null&&(r=R(R({},r),a.getChildContext())),$&&!p&&a.getSnapshotBeforeUpdate!=null&&(S=a.getSnapshotBeforeUpdate(f,h)),z=d!=null&&d.type===te&&d.key==null?We(d.props.children):d,c=Oe(t,ee(z)?z:[z],e,n,r,s,o,i,c,u,l),a.base=e.__e,e.__u&=-161,a.__h.length&&i.push(a),m&&(a.__E=a.__=null)}catch(W){if(e.__v=null,u||o!=null)if(W.then){for(e.__u|=u?160:128;c&&c.nodeType==8&&c.nextSibling;)c=c.nextSibling;o[o.indexOf(c)]=null,e.__e=c}else{for(ce=o.length;ce--;)fe(o[ce]);de(e)}else e.__e=n.__e,e.__k=n.__k,W.then||de(e);y.__e(W,e,n)}else o==null&&e.__v==n.__v?(e.__k=n.__k,e.__e=n.__e):c=e.__e=vt(n.__e,e,n,r,s,o,i,u,l);return(d=y.diffed)&&d(e),128&e.__u?void 0:c}function de(t){t&&(t.__c&&(t.__c.__e=!0),t.__k&&t.__k.some(de))}function Fe(t,e,n){for(var r=0;r<n.length;r++)ve(n[r],n[++r],n[++r]);y.__c&&y.__c(e,t),t.some(function(s){try{t=s.__h,s.__h=[],t.some(function(o){o.call(s)})}catch(o){y.__e(o,s.__v)}})}function We(t){return typeof t!="object"||t==null||t.__b>0?t:ee(t)?t.map(We):R({},t)}function vt(t,e,n,r,s,o,i,c,u){var l,d,a,p,f,h,S,m=n.props||Q,v=e.props,$=e.type;if($=="svg"?s="http://www.w3.org/2000/svg":$=="math"?s="http://www.w3.org/1998/Math/MathML":s||(s="http://www.w3.org/1999/xhtml"),o!=null){for(l=0;l<o.length;l++)if((f=o[l])&&"setAttribute"in f==!!$&&($?f.localName==$:f.nodeType==3)){t=f,o[l]=null;break}}if(t==null){if($==null)return document.createTextNode(v);t=document.createElementNS(s,$,v.is&&v),c&&(y.__m&&y.__m(e,o),c=!1),o=null}if($==null)m===v||c&&t.data==v||(t.data=v);else{if(o=o&&X.call(t.childNodes),!c&&o!=null)for(m={},l=0;l<t.attributes.length;l++)m[(f=t.attributes[l]).name]=f.value;for(l in m)f=m[l],l=="dangerouslySetInnerHTML"?a=f:l=="children"||l in v||l=="value"&&"defaultValue"in v||l=="checked"&&"defaultChecked"in v||V(t,l,null,f,s);for(l in v)f=v[l],l=="children"?p=f:l=="dangerouslySetInnerHTML"?d=f:l=="value"?h=f:l=="checked"?S=f:c&&typeof f!="function"||m[l]===f||V(t,l,f,m[l],s);if(d)c||a&&(d.__html==a.__html||d.__html==t.innerHTML)||(t.innerHTML=d.__html),e.__k=[];else if(a&&(t.innerHTML=""),Oe(e.type=="template"?t.content:t,ee(p)?p:[p],e,n,r,$=="foreignObject"?"http://www.w3.org/1999/xhtml":s,o,i,o?o[0]:n.__k&&I(n,0),c,u),o!=null)for(l=o.length;l--;)fe(o[l]);c||(l="value",$=="progress"&&h==null?t.removeAttribute("value"):h!=null&&(h!==t[l]||$=="progress"&&!h||$=="option"&&h!=m[l])&&V(t,l,h,m[l],s),l="checked",S!=null&&S!=t[l]&&V(t,l,S,m[l],s))}return t}function ve(t,e,n){try{if(typeof t=="function"){var r=typeof t.__u=="function";r&&t.__u(),r&&e==null||(t.__u=t(e))}else t.current=e}catch(s){y.__e(s,n)}}function Ie(t,e,n){var r,s;if(y.unmount&&y.unmount(t),(r=t.ref)&&(r.current&&r.current!=t.__e||ve(r,null,e)),(r=t.__c)!=null){if(r.componentWillUnmount)try{r.componentWillUnmount()}catch(o){y.__e(o,e)}r.base=r.__P=null}if(r=t.__k)for(s=0;s<r.length;s++)r[s]&&Ie(r[s],e,n||typeof t.type!="function");n||fe(t.__e),t.__c=t.__=t.__e=void 0}function $t(t,e,n){return this.constructor(t,n)}function ne(t,e,n){var r,s,o,i;e==document&&(e=document.documentElement),y.__&&y.__(t,e),s=(r=typeof n=="function")?null:n&&n.__k||e.__k,o=[],i=[],me(e,t=(!r&&n||e).__k=he(te,null,[t]),s||Q,Q,e.namespaceURI,!r&&n?[n]:s?null:e.firstChild?X.call(e.childNodes):null,o,!r&&n?n:s?s.__e:e.firstChild,r,i),Fe(o,t,i)}X=Z.slice,y={__e:function(t,e,n,r){for(var s,o,i;e=e.__;)if((s=e.__c)&&!s.__)try{if((o=s.constructor)&&o.getDerivedStateFromError!=null&&(s.setState(o.getDerivedStateFromError(t)),i=s.__d),s.componentDidCatch!=null&&(s.componentDidCatch(t,r||{}),i=s.__d),i)return s.__E=s}catch(c){t=c}throw t}},De=0,ut=function(t){return t!=null&&t.constructor===void 0},K.prototype.setState=function(t,e){var n;n=this.__s!=null&&this.__s!=this.state?this.__s:this.__s=R({},this.state),typeof t=="function"&&(t=t(R({},n),this.props)),t&&R(n,t),t!=null&&this.__v&&(e&&this._sb.push(e),Ce(this))},K.prototype.forceUpdate=function(t){this.__v&&(this.__e=!0,t&&this.__h.push(t),Ce(this))},K.prototype.render=te,U=[],Le=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,Pe=function(t,e){return t.__v.__b-e.__v.__b},Y.__r=0,Ae=/(PointerCapture)$|Capture$/i,pe=0,_e=Re(!1),ue=Re(!0),dt=0;var j,b,$e,Me,oe=0,Ke=[],k=y,je=k.__b,Be=k.__r,qe=k.diffed,Je=k.__c,ze=k.unmount,Ve=k.__;function be(t,e){k.__h&&k.__h(b,t,oe||e),oe=0;var n=b.__H||(b.__H={__:[],__h:[]});return t>=n.__.length&&n.__.push({}),n.__[t]}function g(t){return oe=1,yt(Ze,t)}function yt(t,e,n){var r=be(j++,2);if(r.t=t,!r.__c&&(r.__=[n?n(e):Ze(void 0,e),function(c){var u=r.__N?r.__N[0]:r.__[0],l=r.t(u,c);u!==l&&(r.__N=[l,r.__[1]],r.__c.setState({}))}],r.__c=b,!b.__f)){var s=function(c,u,l){if(!r.__c.__H)return!0;var d=r.__c.__H.__.filter(function(p){return p.__c});if(d.every(function(p){return!p.__N}))return!o||o.call(this,c,u,l);var a=r.__c.props!==c;return d.some(function(p){if(p.__N){var f=p.__[0];p.__=p.__N,p.__N=void 0,f!==p.__[0]&&(a=!0)}}),o&&o.call(this,c,u,l)||a};b.__f=!0;var o=b.shouldComponentUpdate,i=b.componentWillUpdate;b.componentWillUpdate=function(c,u,l){if(this.__e){var d=o;o=void 0,s(c,u,l),o=d}i&&i.call(this,c,u,l)},b.shouldComponentUpdate=s}return r.__N||r.__}function D(t,e){var n=be(j++,3);!k.__s&&Qe(n.__H,e)&&(n.__=t,n.u=e,b.__H.__h.push(n))}function ge(t,e){var n=be(j++,7);return Qe(n.__H,e)&&(n.__=t(),n.__H=e,n.__h=t),n.__}function ke(t,e){return oe=8,ge(function(){return t},e)}function bt(){for(var t;t=Ke.shift();){var e=t.__H;if(t.__P&&e)try{e.__h.some(re),e.__h.some(ye),e.__h=[]}catch(n){e.__h=[],k.__e(n,t.__v)}}}k.__b=function(t){b=null,je&&je(t)},k.__=function(t,e){t&&e.__k&&e.__k.__m&&(t.__m=e.__k.__m),Ve&&Ve(t,e)},k.__r=function(t){Be&&Be(t),j=0;var e=(b=t.__c).__H;e&&($e===b?(e.__h=[],b.__h=[],e.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})):(e.__h.some(re),e.__h.some(ye),e.__h=[],j=0)),$e=b},k.diffed=function(t){qe&&qe(t);var e=t.__c;e&&e.__H&&(e.__H.__h.length&&(Ke.push(e)!==1&&Me===k.requestAnimationFrame||((Me=k.requestAnimationFrame)||gt)(bt)),e.__H.__.some(function(n){n.u&&(n.__H=n.u),n.u=void 0})),$e=b=null},k.__c=function(t,e){e.some(function(n){try{n.__h.some(re),n.__h=n.__h.filter(function(r){return!r.__||ye(r)})}catch(r){e.some(function(s){s.__h&&(s.__h=[])}),e=[],k.__e(r,n.__v)}}),Je&&Je(t,e)},k.unmount=function(t){ze&&ze(t);var e,n=t.__c;n&&n.__H&&(n.__H.__.some(function(r){try{re(r)}catch(s){e=s}}),n.__H=void 0,e&&k.__e(e,n.__v))};var Ge=typeof requestAnimationFrame=="function";function gt(t){var e,n=function(){clearTimeout(r),Ge&&cancelAnimationFrame(e),setTimeout(t)},r=setTimeout(n,35);Ge&&(e=requestAnimationFrame(n))}function re(t){var e=b,n=t.__c;typeof n=="function"&&(t.__c=void 0,n()),b=e}function ye(t){var e=b;t.__c=t.__(),b=e}function Qe(t,e){return!t||t.length!==e.length||e.some(function(n,r){return n!==t[r]})}function Ze(t,e){return typeof e=="function"?e(t):e}var Ye="hookline-portal-session",Xe=null,se=class extends Error{constructor(e,n,r){super(r),this.status=e,this.code=n}};function kt(t){let e=t.slice(4).split(".")[0].replace(/-/g,"+").replace(/_/g,"/"),n=JSON.parse(atob(e+"=".repeat((4-e.length%4)%4)));if(typeof n.t!="string"||!Array.isArray(n.s)||typeof n.e!="number")throw new Error("not a portal session");return{tenant:n.t,scopes:new Set(n.s),expiresAt:new Date(n.e*1e3)}}function wt(){try{return sessionStorage.getItem(Ye)}catch{return null}}function St(t){Xe=t;try{sessionStorage.setItem(Ye,t)}catch{}}function et(){let t=new URLSearchParams(location.hash.slice(1)),e=location.hash.startsWith("#session=")?t.get("session"):null;e&&(St(e),history.replaceState(null,"",location.pathname+location.search+"#/"));let n=e||Xe||wt();if(!n||!n.startsWith("hkp_"))return null;try{return{token:n,...kt(n)}}catch{return null}}function tt(t,e){let n=new URL("tenants/"+encodeURIComponent(t.tenant),location.href);async function r(s,o,i){let c=new URL(n.pathname+o,location.origin),u={Authorization:"Bearer "+t.token,Accept:"application/json"};i!==void 0&&(u["Content-Type"]="application/json");let l;try{l=await fetch(c,{method:s,headers:u,body:i===void 0?void 0:JSON.stringify(i),credentials:"omit",cache:"no-store",referrerPolicy:"no-referrer"})}catch{throw new se(0,"network","The service could not be reached. Check your connection and try again.")}if(l.status===204)return null;let d=null;try{d=await l.json()}catch{d=null}if(!l.ok){let a=d&&d.error||{};throw l.status===401&&e(a.message),new se(l.status,a.code||"error",xt(l.status,a.message))}return d}return{get:s=>r("GET",s),post:(s,o)=>r("POST",s,o===void 0?{}:o),patch:(s,o)=>r("PATCH",s,o),del:s=>r("DELETE",s)}}function xt(t,e){let n=e?e.charAt(0).toUpperCase()+e.slice(1):"";return t===403?"This portal link does not allow that. "+n:t===404?"Not found: it may have been deleted. "+n:t===409?"That cannot be done right now. "+n:t===429||t>=500?"The service is busy or failed; try again in a moment. "+n:n||"The request failed (HTTP "+t+")."}function L(t){let e=new URLSearchParams;for(let[r,s]of Object.entries(t))s!=null&&s!==""&&e.set(r,s);let n=e.toString();return n?"?"+n:""}var rt=function(t,e,n,r){var s;e[0]=0;for(var o=1;o<e.length;o++){var i=e[o++],c=e[o]?(e[0]|=i?1:2,n[e[o++]]):e[++o];i===3?r[0]=c:i===4?r[1]=Object.assign(r[1]||{},c):i===5?(r[1]=r[1]||{})[e[++o]]=c:i===6?r[1][e[++o]]+=c+"":i?(s=t.apply(c,rt(t,c,n,["",null])),r.push(s),c[0]?e[0]|=2:(e[o-2]=0,e[o]=s)):r.push(c)}return r},nt=new Map;function ot(t){var e=nt.get(this);return e||(e=new Map,nt.set(this,e)),(e=rt(this,e.get(t)||(e.set(t,e=(function(n){for(var r,s,o=1,i="",c="",u=[0],l=function(p){o===1&&(p||(i=i.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?u.push(0,p,i):o===3&&(p||i)?(u.push(3,p,i),o=2):o===2&&i==="..."&&p?u.push(4,p,0):o===2&&i&&!p?u.push(5,0,!0,i):o>=5&&((i||!p&&o===5)&&(u.push(o,0,i,s),o=6),p&&(u.push(o,p,0,s),o=6)),i=""},d=0;d<n.length;d++){d&&(o===1&&l(),l(d));for(var a=0;a<n[d].length;a++)r=n[d][a],o===1?r==="<"?(l(),u=[u],o=3):i+=r:o===4?i==="--"&&r===">"?(o=1,i=""):i=r+i[0]:c?r===c?c="":i+=r:r==='"'||r==="'"?c=r:r===">"?(l(),o=1):o&&(r==="="?(o=5,s=i,i=""):r==="/"&&(o<5||n[d][a+1]===">")?(l(),o===3&&(u=u[0]),o=u,(u=u[0]).push(2,0,o),o=0):r===" "||r==="	"||r===`
`||r==="\r"?(l(),o=2):i+=r),o===3&&i==="!--"&&(o=4,u=u[0])}return l(),u})(t)),e),arguments,[])).length>1?e:e[0]}var _=ot.bind(he),w={endpointsRead:"endpoints:read",endpointsWrite:"endpoints:write",eventsRead:"events:read",eventsWrite:"events:write"},st=Intl.DateTimeFormat().resolvedOptions().timeZone,Tt=new Intl.DateTimeFormat(void 0,{dateStyle:"medium",timeStyle:"medium"});function E({iso:t}){if(!t)return _`<span class="muted">never</span>`;let e=new Date(t);return Number.isNaN(e.getTime())?_`<span>${t}</span>`:_`<time datetime=${t} title=${t}>${Tt.format(e)}</time>`}function B(t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?"":e.toISOString()}function we(t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?"":new Date(e.getTime()-e.getTimezoneOffset()*6e4).toISOString().slice(0,16)}function x({error:t}){return t?_`<p class="error" role="alert">${t.message||String(t)}</p>`:null}function ae({text:t}){return t?_`<p class="notice" role="status">${t}</p>`:null}function H({value:t}){return _`<span class=${"badge badge-"+String(t).replace(/[^a-z_]/g,"")}>${t}</span>`}function F(){return _`<p class="muted" role="status">Loading…</p>`}function P(t,e){let[n,r]=g({data:null,error:null,loading:!0}),s=ke(()=>{let o=!0;return r(i=>({...i,loading:!0})),t().then(i=>o&&r({data:i,error:null,loading:!1}),i=>o&&r({data:null,error:i,loading:!1})),()=>{o=!1}},e);return D(s,[s]),{...n,reload:s}}function N(){let[t,e]=g(!1),[n,r]=g(null),s=ke(async o=>{e(!0),r(null);try{return await o()}catch(i){r(i);return}finally{e(!1)}},[]);return{busy:t,error:n,run:s,setError:r}}function q(t){location.hash="#"+t}function J({attempts:t,showEvent:e,showEndpoint:n}){return t.length?_`
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            ${e&&_`<th scope="col">Event</th>`}
            ${n&&_`<th scope="col">Endpoint</th>`}
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status code</th>
            <th scope="col">Latency</th>
            <th scope="col">Error</th>
            <th scope="col">Response excerpt</th>
          </tr>
        </thead>
        <tbody>
          ${t.map(r=>_`
              <tr key=${r.event_id+r.endpoint_id+r.attempt} class="attempt-row">
                ${e&&_`<td><a href=${"#/events/"+encodeURIComponent(r.event_id)}>${r.event_id}</a></td>`}
                ${n&&_`<td>
                  <a href=${"#/endpoints/"+encodeURIComponent(r.endpoint_id)}>${r.endpoint_id}</a>
                </td>`}
                <td>${r.attempt}</td>
                <td><${E} iso=${r.attempted_at} /></td>
                <td><${H} value=${r.outcome} /></td>
                <td class="status-code">${r.status_code??"\u2014"}</td>
                <td>${r.latency_ms} ms</td>
                <td>
                  ${r.error_kind?_`<strong>${r.error_kind}</strong> ${r.error_message||""}`:"\u2014"}
                </td>
                <td><pre class="excerpt">${r.response_excerpt||""}</pre></td>
              </tr>
            `)}
        </tbody>
      </table>
    </div>
  `:_`<p class="empty">No attempts yet.</p>`}var Et=6e4,Ct=1e3,T=t=>"/endpoints/"+encodeURIComponent(t);function at({api:t,can:e}){let[n,r]=g([]),{data:s,error:o,loading:i}=P(()=>t.get("/endpoints"+L({limit:50})),[]),c=N(),u=[...s?s.data:[],...n.flatMap(a=>a.data)],l=n.length?n[n.length-1]:s,d=()=>c.run(async()=>{let a=await t.get("/endpoints"+L({limit:50,cursor:l.next_cursor}));r([...n,a])});return _`
    <section aria-labelledby="endpoints-title">
      <div class="heading-row">
        <h2 id="endpoints-title">Endpoints</h2>
        ${e(w.endpointsWrite)&&_`<a class="button primary" href="#/endpoints/new">Add endpoint</a>`}
      </div>
      <${x} error=${o} />
      ${i&&!s&&_`<${F} />`}
      ${s&&!u.length&&_`<p class="empty">
        No endpoints yet.
        ${e(w.endpointsWrite)?" Add one to start receiving webhooks.":""}
      </p>`}
      ${u.length>0&&_`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Event types</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${u.map(a=>_`
                <tr key=${a.id} class="endpoint-row">
                  <td><a href=${"#"+T(a.id)}>${a.url}</a></td>
                  <td class="description">${a.description}</td>
                  <td>${a.event_types?a.event_types.join(", "):"all"}</td>
                  <td><${H} value=${a.enabled?"enabled":"disabled"} /></td>
                  <td><${E} iso=${a.created_at} /></td>
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      ${l&&l.has_more&&_`<button type="button" onClick=${d} disabled=${c.busy}>Load more</button>`}
      <${x} error=${c.error} />
    </section>
  `}function Nt(t){let e={};for(let n of t.split(`
`)){if(!n.trim())continue;let r=n.indexOf(":");if(r<1)throw new Error(`Headers: write one 'Name: value' per line ("`+n.trim()+'" has no name).');e[n.slice(0,r).trim()]=n.slice(r+1).trim()}return e}function Rt(t){if(!t.trim())return null;try{return JSON.parse(t)}catch{throw new Error("Filter: this is not valid JSON.")}}function Se({api:t,endpointId:e,catalog:n}){let r=!!e,s=P(()=>r?t.get(T(e)):Promise.resolve(null),[e]),[o,i]=g(null),c=N();if(D(()=>{if(r&&!s.data)return;let a=s.data||{};i({url:a.url||"",description:a.description||"",eventTypes:a.event_types?a.event_types.join(", "):"",filter:a.filter?JSON.stringify(a.filter,null,2):"",headers:"",rateLimit:a.rate_limit?String(a.rate_limit):""})},[s.data]),s.error)return _`<${x} error=${s.error} />`;if(!o)return _`<${F} />`;let u=a=>p=>i({...o,[a]:p.currentTarget.value}),l=s.data?Object.keys(s.data.headers||{}):[];return _`
    <section aria-labelledby="form-title">
      <h2 id="form-title">${r?"Edit endpoint":"Add endpoint"}</h2>
      <form class="stack" onSubmit=${a=>{a.preventDefault(),c.run(async()=>{let p={url:o.url.trim(),description:o.description,event_types:o.eventTypes.trim()?o.eventTypes.split(",").map(h=>h.trim()).filter(Boolean):null,filter:Rt(o.filter),rate_limit:o.rateLimit.trim()?Number(o.rateLimit):null};if((o.headers.trim()||!r)&&(p.headers=Nt(o.headers)),!r)for(let h of Object.keys(p))p[h]===null&&delete p[h];let f=r?await t.patch(T(e),p):await t.post("/endpoints",p);q(T(f.id))})}}>
        <label for="ep-url">URL</label>
        <input id="ep-url" name="url" type="url" required value=${o.url} onInput=${u("url")}
          placeholder="https://example.com/webhooks" />
        <label for="ep-description">Description</label>
        <input id="ep-description" name="description" value=${o.description} onInput=${u("description")} />
        <label for="ep-types">Event types <span class="muted">(comma-separated; empty: all; "order.*" for a prefix)</span></label>
        <input id="ep-types" name="event_types" list="event-type-catalog" value=${o.eventTypes}
          onInput=${u("eventTypes")} />
        <datalist id="event-type-catalog">
          ${n.map(a=>_`<option key=${a} value=${a}></option>`)}
        </datalist>
        <label for="ep-filter">Filter <span class="muted">(JSON, optional)</span></label>
        <textarea id="ep-filter" name="filter" rows="3" value=${o.filter} onInput=${u("filter")}
          placeholder='{"data.amount": {"$gte": 100}}'></textarea>
        <label for="ep-headers">Headers <span class="muted">(one "Name: value" per line; values are write-only)</span></label>
        <textarea id="ep-headers" name="headers" rows="3" value=${o.headers} onInput=${u("headers")}></textarea>
        ${r&&l.length>0&&_`<p class="muted">Leave empty to keep the current headers: ${l.join(", ")}.</p>`}
        <label for="ep-rate">Rate limit <span class="muted">(deliveries per second; empty: none)</span></label>
        <input id="ep-rate" name="rate_limit" type="number" min="1" value=${o.rateLimit} onInput=${u("rateLimit")} />
        <${x} error=${c.error} />
        <div class="actions">
          <button class="primary" type="submit" disabled=${c.busy}>${r?"Save":"Add endpoint"}</button>
          <a class="button" href=${r?"#"+T(e):"#/endpoints"}>Cancel</a>
        </div>
      </form>
    </section>
  `}function Dt({api:t,endpointId:e,can:n}){let[r,s]=g(null),o=N(),i=()=>o.run(async()=>s(await t.get(T(e)+"/secret"))),c=()=>o.run(async()=>s(await t.post(T(e)+"/secret/rotate"))),u=r&&(r.secret||r.public_key);return _`
    <section aria-labelledby="secret-title" class="panel">
      <h3 id="secret-title">Signing secret</h3>
      ${u?_`<p><code class="secret">${u}</code></p>`:_`<p class="muted">Hidden. Verify deliveries with it (Standard Webhooks).</p>`}
      ${r&&r.previous_secret_expires_at&&_`<p class="notice" role="status">
        Rotated. The previous secret keeps signing until <${E} iso=${r.previous_secret_expires_at} />.
      </p>`}
      <div class="actions">
        ${!u&&_`<button type="button" onClick=${i} disabled=${o.busy}>Reveal secret</button>`}
        ${n(w.endpointsWrite)&&_`<button type="button" onClick=${c} disabled=${o.busy}>Rotate secret</button>`}
      </div>
      <${x} error=${o.error} />
    </section>
  `}function Lt({api:t,endpointId:e,can:n}){let[r,s]=g(null),[o,i]=g([]),c=N();return D(()=>{if(!r||!n(w.eventsRead))return;let l=Date.now()+Et,d=null,a=async()=>{try{let p=await t.get("/events/"+encodeURIComponent(r.id)+"/attempts");if(i(p.data),p.data.some(f=>f.outcome==="succeeded")||Date.now()>l)return}catch(p){c.setError(p);return}d=setTimeout(a,Ct)};return a(),()=>clearTimeout(d)},[r]),_`
    <section aria-labelledby="test-title" class="panel">
      <h3 id="test-title">Send a test event</h3>
      <p class="muted">A "webhook.test" event, delivered to this endpoint only, signed and retried like any other.</p>
      <button type="button" onClick=${()=>c.run(async()=>{i([]),s(await t.post(T(e)+"/test"))})} disabled=${c.busy}>Send test event</button>
      <${x} error=${c.error} />
      ${r&&_`<p role="status">
        Sent <a href=${"#/events/"+encodeURIComponent(r.id)}>${r.id}</a>.
        ${n(w.eventsRead)&&!o.length?" Waiting for its first attempt\u2026":""}
      </p>`}
      ${o.length>0&&_`<${J} attempts=${o} />`}
    </section>
  `}function Pt({api:t,endpointId:e}){let[n,r]=g(""),[s,o]=g(null),i=N();return _`
    <section aria-labelledby="recover-title" class="panel">
      <h3 id="recover-title">Recover failed deliveries</h3>
      <form class="inline" onSubmit=${u=>{u.preventDefault(),i.run(async()=>{let l=await t.post(T(e)+"/recover",{since:B(n)});o(l)})}}>
        <label for="recover-since">Resend everything that failed since</label>
        <input id="recover-since" type="datetime-local" required value=${n}
          onInput=${u=>r(u.currentTarget.value)} />
        <button type="submit" disabled=${i.busy}>Recover</button>
      </form>
      <${x} error=${i.error} />
      ${s&&_`<${ae} text=${"Queued: failed deliveries since "+new Date(s.since).toLocaleString()+" are being resent."} />`}
    </section>
  `}function it({api:t,endpointId:e,can:n}){let{data:r,error:s,reload:o}=P(()=>t.get(T(e)),[e]),i=P(()=>n(w.eventsRead)?t.get(T(e)+"/attempts"+L({limit:20})):Promise.resolve({data:[]}),[e]),c=N(),[u,l]=g(!1);if(s)return _`<${x} error=${s} /><p><a href="#/endpoints">Back to endpoints</a></p>`;if(!r)return _`<${F} />`;let d=n(w.endpointsWrite),a=()=>c.run(async()=>{await t.patch(T(e),{enabled:!r.enabled}),o()}),p=()=>c.run(async()=>{await t.del(T(e)),q("/endpoints")}),f=Object.keys(r.headers||{});return _`
    <section aria-labelledby="endpoint-title">
      <p><a href="#/endpoints">← Endpoints</a></p>
      <div class="heading-row">
        <h2 id="endpoint-title" class="url">${r.url}</h2>
        <${H} value=${r.enabled?"enabled":"disabled"} />
      </div>
      <dl class="facts">
        <dt>ID</dt><dd><code>${r.id}</code></dd>
        <dt>Description</dt><dd class="description">${r.description||"\u2014"}</dd>
        <dt>Event types</dt><dd>${r.event_types?r.event_types.join(", "):"all"}</dd>
        <dt>Filter</dt><dd>${r.filter?_`<pre>${JSON.stringify(r.filter,null,2)}</pre>`:"none"}</dd>
        <dt>Headers</dt>
        <dd class="header-names">
          ${f.length?f.map(h=>_`<code key=${h}>${h}</code> `):"none"}
        </dd>
        <dt>Rate limit</dt><dd>${r.rate_limit?r.rate_limit+" per second":"none"}</dd>
        ${r.disabled_reason&&_`<dt>Disabled because</dt><dd>${r.disabled_reason}</dd>`}
        <dt>Created</dt><dd><${E} iso=${r.created_at} /></dd>
        <dt>Updated</dt><dd><${E} iso=${r.updated_at} /></dd>
      </dl>
      ${d&&_`<div class="actions">
        <a class="button" href=${"#"+T(e)+"/edit"}>Edit</a>
        <button type="button" onClick=${a} disabled=${c.busy}>${r.enabled?"Disable":"Enable"}</button>
        ${u?_`<button type="button" class="danger" onClick=${p} disabled=${c.busy}>Yes, delete it</button>
              <button type="button" onClick=${()=>l(!1)}>Keep it</button>`:_`<button type="button" class="danger" onClick=${()=>l(!0)}>Delete</button>`}
      </div>`}
      <${x} error=${c.error} />
      <${Dt} api=${t} endpointId=${e} can=${n} />
      ${d&&_`<${Lt} api=${t} endpointId=${e} can=${n} />`}
      ${d&&_`<${Pt} api=${t} endpointId=${e} />`}
      ${n(w.eventsRead)&&_`<section aria-labelledby="attempts-title" class="panel">
        <h3 id="attempts-title">Recent attempts</h3>
        <${x} error=${i.error} />
        ${i.data&&_`<${J} attempts=${i.data.data} showEvent=${!0} />`}
      </section>`}
    </section>
  `}var At=["pending","retrying","succeeded","failed"],ie=t=>"/events/"+encodeURIComponent(t);function lt({api:t,filters:e}){let[n,r]=g({type:e.type||"",status:e.status||"",since:we(e.since),until:we(e.until)}),[s,o]=g([]),i={type:e.type,status:e.status,since:e.since,until:e.until},c=JSON.stringify(i),u=P(()=>(o([]),t.get("/events"+L({...i,limit:50}))),[c]),l=N(),d=[...u.data?u.data.data:[],...s.flatMap(m=>m.data)],a=s.length?s[s.length-1]:u.data,p=m=>v=>r({...n,[m]:v.currentTarget.value}),f=m=>{m.preventDefault();let v="/events"+L({type:n.type.trim(),status:n.status,since:B(n.since),until:B(n.until)});q(v)},h=()=>l.run(async()=>{let m=await t.get("/events"+L({...i,limit:50,cursor:a.next_cursor}));o([...s,m])}),S=Object.values(i).some(Boolean);return _`
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <form class="filters" onSubmit=${f} role="search">
        <div>
          <label for="search-type">Type</label>
          <input id="search-type" name="type" value=${n.type} onInput=${p("type")} placeholder="order.* or order.created" />
        </div>
        <div>
          <label for="search-status">Delivery status</label>
          <select id="search-status" name="status" value=${n.status} onChange=${p("status")}>
            <option value="">any</option>
            ${At.map(m=>_`<option key=${m} value=${m}>${m}</option>`)}
          </select>
        </div>
        <div>
          <label for="search-since">From</label>
          <input id="search-since" type="datetime-local" value=${n.since} onInput=${p("since")} />
        </div>
        <div>
          <label for="search-until">Until</label>
          <input id="search-until" type="datetime-local" value=${n.until} onInput=${p("until")} />
        </div>
        <div class="filter-actions"><button class="primary" type="submit">Search</button></div>
      </form>
      <${x} error=${u.error} />
      ${u.loading&&!u.data&&_`<${F} />`}
      ${u.data&&!d.length&&_`<p class="empty">${S?"No events match this search.":"No events yet. Events you are sent appear here."}</p>`}
      ${d.length>0&&_`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Time</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            ${d.map(m=>_`
                <tr key=${m.id} class="event-row">
                  <td><a href=${"#"+ie(m.id)}>${m.id}</a></td>
                  <td class="event-type">${m.type}</td>
                  <td><${E} iso=${m.timestamp} /></td>
                  <td>
                    ${m.deliveries.length?m.deliveries.map(v=>_`<${H} key=${v.endpoint_id} value=${v.status} /> `):_`<span class="muted">no endpoint matched</span>`}
                  </td>
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      ${a&&a.has_more&&_`<button type="button" onClick=${h} disabled=${l.busy}>Load more</button>`}
      <${x} error=${l.error} />
    </section>
  `}function ct({api:t,eventId:e,can:n}){let r=P(()=>t.get(ie(e)),[e]),s=P(()=>t.get(ie(e)+"/attempts"+L({limit:100})),[e]),o=N(),[i,c]=g("");if(r.error)return _`<${x} error=${r.error} /><p><a href="#/events">Back to events</a></p>`;if(!r.data)return _`<${F} />`;let u=d=>o.run(async()=>{await t.post(ie(e)+"/retry",{endpoint_id:d}),c("Queued a new attempt to "+d+"."),r.reload(),s.reload()}),{data:l}=r;return _`
    <section aria-labelledby="event-title">
      <p><a href="#/events">← Events</a></p>
      <h2 id="event-title">Event <code>${l.id}</code></h2>
      <dl class="facts">
        <dt>Type</dt><dd class="event-type">${l.type}</dd>
        <dt>Time</dt><dd><${E} iso=${l.timestamp} /></dd>
      </dl>
      <details>
        <summary>Payload</summary>
        <pre class="payload">${JSON.stringify(l.data,null,2)}</pre>
      </details>
      <h3>Deliveries</h3>
      <${x} error=${o.error} />
      <${ae} text=${i} />
      ${!l.deliveries.length&&_`<p class="empty">No endpoint matched this event.</p>`}
      ${l.deliveries.length>0&&_`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last attempt</th>
              <th scope="col">Last status code</th>
              <th scope="col">Last error</th>
              <th scope="col">Next attempt</th>
              ${n(w.eventsWrite)&&_`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
            </tr>
          </thead>
          <tbody>
            ${l.deliveries.map(d=>_`
                <tr key=${d.endpoint_id} class="delivery-row">
                  <td><a href=${"#/endpoints/"+encodeURIComponent(d.endpoint_id)}>${d.endpoint_id}</a></td>
                  <td><${H} value=${d.status} /></td>
                  <td>${d.attempts}</td>
                  <td><${E} iso=${d.last_attempt_at} /></td>
                  <td>${d.last_status_code??"\u2014"}</td>
                  <td>${d.last_error_kind?d.last_error_kind+": "+(d.last_error||""):"\u2014"}</td>
                  <td>${d.next_attempt_at?_`<${E} iso=${d.next_attempt_at} />`:"\u2014"}</td>
                  ${n(w.eventsWrite)&&_`<td>
                    <button type="button" onClick=${()=>u(d.endpoint_id)} disabled=${o.busy}
                      aria-label=${"Retry delivery to "+d.endpoint_id}>Retry</button>
                  </td>`}
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      <h3>Attempts</h3>
      <${x} error=${s.error} />
      ${s.data&&_`<${J} attempts=${s.data.data} showEndpoint=${!0} />`}
    </section>
  `}function _t(){let[t,e]=location.hash.replace(/^#/,"").split("?");return{parts:t.split("/").filter(Boolean).map(decodeURIComponent),params:new URLSearchParams(e||"")}}function Ut(){let[t,e]=g(_t);return D(()=>{let n=()=>e(_t());return addEventListener("hashchange",n),()=>removeEventListener("hashchange",n)},[]),t}function xe({title:t,expired:e,message:n}){return _`
    <main class="signed-out" id="main">
      <h1>${t}</h1>
      <h2>${e?"This portal link has expired":"This page needs a portal link"}</h2>
      <p role="alert">
        ${e?"For your security, portal links work for a limited time. Go back to the application that sent you here and open the portal again to get a fresh link.":"Open the portal from the application that manages your webhooks: it gives you a link that signs you in."}
      </p>
      ${n&&_`<p class="muted">${n}</p>`}
    </main>
  `}function le(){return _`<p class="empty" role="alert">This portal link does not give access to this page.</p>`}function Ot(t){let[e,n]=g([]);return D(()=>{fetch(new URL("event-types?limit=250",location.href),{headers:{Authorization:"Bearer "+t.token},credentials:"omit",referrerPolicy:"no-referrer"}).then(r=>r.ok?r.json():{data:[]}).then(r=>n((r.data||[]).map(s=>s.name).filter(s=>typeof s=="string"))).catch(()=>n([]))},[]),e}function Ht({session:t,title:e}){let[n,r]=g(null),s=ge(()=>{let h=tt(t,S=>r({message:S}));return h.token=t.token,h},[t]),o=Ut(),i=Ot(s),c=h=>t.scopes.has(h);if(D(()=>{let h=t.expiresAt.getTime()-Date.now(),S=setTimeout(()=>r({message:""}),Math.max(0,Math.min(h,2**31-1)));return()=>clearTimeout(S)},[t]),n)return _`<${xe} title=${e} expired=${!0} message=${n.message} />`;let[u,l,d]=o.parts,a=c(w.endpointsRead)?"endpoints":"events",p=u||a,f;if(p==="endpoints")c(w.endpointsRead)?l==="new"?f=c(w.endpointsWrite)?_`<${Se} api=${s} catalog=${i} />`:_`<${le} />`:l&&d==="edit"?f=c(w.endpointsWrite)?_`<${Se} key=${l} api=${s} endpointId=${l} catalog=${i} />`:_`<${le} />`:l?f=_`<${it} key=${l} api=${s} endpointId=${l} can=${c} />`:f=_`<${at} api=${s} can=${c} />`:f=_`<${le} />`;else if(p==="events")if(!c(w.eventsRead))f=_`<${le} />`;else if(l)f=_`<${ct} key=${l} api=${s} eventId=${l} can=${c} />`;else{let h=Object.fromEntries(o.params.entries());f=_`<${lt} key=${o.params.toString()} api=${s} filters=${h} />`}else f=_`<p class="empty" role="alert">There is no such page. <a href="#/">Go to the start.</a></p>`;return _`
    <a class="skip" href="#main" onClick=${h=>{h.preventDefault(),document.getElementById("main").focus()}}>Skip to content</a>
    <header class="top">
      <h1>${e}</h1>
      <nav aria-label="Sections">
        ${c(w.endpointsRead)&&_`<a href="#/endpoints" aria-current=${p==="endpoints"?"page":void 0}>Endpoints</a>`}
        ${c(w.eventsRead)&&_`<a href="#/events" aria-current=${p==="events"?"page":void 0}>Events</a>`}
      </nav>
    </header>
    <main id="main" tabindex="-1">${f}</main>
    <footer>
      <span>Account <code>${t.tenant}</code></span>
      <span>Access: ${[...t.scopes].sort().join(", ")}</span>
      <span>Link valid until <${E} iso=${t.expiresAt.toISOString()} /></span>
      <span>Times in ${st}</span>
    </footer>
  `}function Ft(){let t=document.title||"Webhooks",e=document.getElementById("app"),n=et();n?n.expiresAt.getTime()<=Date.now()?ne(_`<${xe} title=${t} expired=${!0} />`,e):ne(_`<${Ht} session=${n} title=${t} />`,e):ne(_`<${xe} title=${t} expired=${!1} />`,e)}Ft();
